# Non-ASCII module and function names.
def calculé_数(n):
    return sum(i * i for i in range(n))


class Größe:
    def messen(self):
        return calculé_数(500)
