def work():
    return sum(i * 2 for i in range(3000))
