"""Call-heavy: recursive alpha-beta search on a small connect-four board with many tiny methods."""

import os


class Board:
    W, H = 6, 5

    def __init__(self):
        self.cols = [[] for _ in range(self.W)]
        self.moves = 0

    def legal(self):
        return [c for c in (2, 3, 1, 4, 0, 5) if self.playable(c)]

    def playable(self, c):
        return len(self.cols[c]) < self.H

    def play(self, c, who):
        self.cols[c].append(who)
        self.moves += 1

    def undo(self, c):
        self.cols[c].pop()
        self.moves -= 1

    def cell(self, c, r):
        col = self.cols[c]
        return col[r] if 0 <= c < self.W and r < len(col) else 0

    def line(self, c, r, dc, dr, who):
        n = 0
        while 0 <= c < self.W and 0 <= r < self.H and self.cell(c, r) == who:
            n += 1
            c += dc
            r += dr
        return n

    def wins(self, c, who):
        r = len(self.cols[c]) - 1
        for dc, dr in ((1, 0), (0, 1), (1, 1), (1, -1)):
            if self.line(c, r, dc, dr, who) + self.line(c - dc, r - dr, -dc, -dr, who) >= 4:
                return True
        return False

    def full(self):
        return self.moves == self.W * self.H


def score(board, who):
    return sum(len(col) * (1 if col and col[-1] == who else -1) for col in board.cols)


def search(board, who, depth, alpha, beta, counter):
    counter[0] += 1
    if depth == 0 or board.full():
        return score(board, who)
    for c in board.legal():
        board.play(c, who)
        if board.wins(c, who):
            value = 1000
        else:
            value = -search(board, 3 - who, depth - 1, -beta, -alpha, counter)
        board.undo(c)
        if value > alpha:
            alpha = value
        if alpha >= beta:
            break
    return alpha


def main():
    depth = int(os.environ.get("SEARCH_DEPTH", "8"))
    board = Board()
    counter = [0]
    who = 1
    for _ in range(int(os.environ.get("SEARCH_MOVES", "6"))):
        best, best_v = None, None
        for c in board.legal():
            board.play(c, who)
            v = -search(board, 3 - who, depth - 1, -10**6, 10**6, counter)
            board.undo(c)
            if best_v is None or v > best_v:
                best, best_v = c, v
        board.play(best, who)
        who = 3 - who
    print(f"search: {counter[0]} nodes")


if __name__ == "__main__":
    main()
