"""exec and eval run code objects of their own, under the caller."""


def called_from_exec():
    return 1


def called_from_eval():
    return 2


def main():
    exec("called_from_exec()")
    print(eval("called_from_eval()"))


main()
