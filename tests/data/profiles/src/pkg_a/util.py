def work():
    return sum(i for i in range(3000))
