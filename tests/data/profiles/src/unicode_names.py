# Driver importing a module whose file and function names are not ASCII.
import time

from naïve_модуль import Größe, calculé_数


def main():
    end = time.monotonic() + 0.8
    g = Größe()
    while time.monotonic() < end:
        g.messen()
        calculé_数(300)


if __name__ == "__main__":
    main()
