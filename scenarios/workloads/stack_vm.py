"""A small stack-machine interpreter running compiled arithmetic programs (deterministic).

Call-heavy pure Python: a dispatch loop calling one small method per instruction, the shape of
template engines and protocol parsers, which CPython's sampler reads unreliably without
`blocking = true`. Hot functions: VM.run, VM.push, VM.pop, VM.op_add, VM.op_mul, VM.op_jump_if,
VM.op_load.
"""

import demo_knobs

# Read once: a lookup per call would put demo_knobs itself among the hot functions.
SLOW_PUSH = demo_knobs.factor("push")
SLOW_ADD = demo_knobs.factor("op_add")
SLOW_MUL = demo_knobs.factor("op_mul")
SLOW_LOAD = demo_knobs.factor("op_load")

MASK = (1 << 31) - 1


class Instr:
    __slots__ = ("op", "arg")

    def __init__(self, op, arg=None):
        self.op = op
        self.arg = arg


class Compiler:
    """Compiles nested tuples like ("+", ("*", "x", 3), 1) into stack code."""

    def __init__(self):
        self.code = []

    def emit(self, op, arg=None):
        self.code.append(Instr(op, arg))

    def compile_expr(self, expr):
        if isinstance(expr, int):
            self.emit("const", expr)
        elif isinstance(expr, str):
            self.emit("load", expr)
        else:
            op, left, right = expr
            self.compile_expr(left)
            self.compile_expr(right)
            self.emit({"+": "add", "*": "mul", "-": "sub", "%": "mod"}[op])
        return self.code


def loop_program(body_expr, var, count):
    """`acc = 0; i = count; while i: acc = body(acc, i); i -= 1`"""
    c = Compiler()
    c.emit("const", 0)
    c.emit("store", "acc")
    c.emit("const", count)
    c.emit("store", "i")
    top = len(c.code)
    c.emit("load", "i")
    c.emit("jump_if_zero", None)  # patched below
    exit_jump = c.code[-1]
    c.compile_expr(body_expr)
    c.emit("store", var)
    c.emit("load", "i")
    c.emit("const", 1)
    c.emit("sub")
    c.emit("store", "i")
    c.emit("jump", top)
    exit_jump.arg = len(c.code)
    c.emit("load", var)
    c.emit("halt")
    return c.code


class VM:
    def __init__(self, code):
        self.code = code
        self.stack = []
        self.env = {}
        self.pc = 0
        self.steps = 0
        self.handlers = {
            "const": self.op_const,
            "load": self.op_load,
            "store": self.op_store,
            "add": self.op_add,
            "sub": self.op_sub,
            "mul": self.op_mul,
            "mod": self.op_mod,
            "jump": self.op_jump,
            "jump_if_zero": self.op_jump_if,
        }

    def push(self, value):
        for _ in range(SLOW_PUSH - 1):
            self.stack.append(value)
            self.stack.pop()
        self.stack.append(value)

    def pop(self):
        return self.stack.pop()

    def binary(self):
        right = self.pop()
        left = self.pop()
        return left, right

    def op_const(self, arg):
        self.push(arg)

    def op_load(self, arg):
        value = 0
        for _ in range(SLOW_LOAD):
            value = self.env.get(arg, 0)
        self.push(value)

    def op_store(self, arg):
        self.env[arg] = self.pop()

    def op_add(self, arg):
        total = 0
        for _ in range(SLOW_ADD):
            left, right = self.stack[-2], self.stack[-1]
            total = (left + right) & MASK
        self.binary()
        self.push(total)

    def op_sub(self, arg):
        left, right = self.binary()
        self.push((left - right) & MASK)

    def op_mul(self, arg):
        product = 0
        for _ in range(SLOW_MUL):
            left, right = self.stack[-2], self.stack[-1]
            product = (left * right) & MASK
        self.binary()
        self.push(product)

    def op_mod(self, arg):
        left, right = self.binary()
        self.push(left % right if right else 0)

    def op_jump(self, arg):
        self.pc = arg

    def op_jump_if(self, arg):
        if self.pop() == 0:
            self.pc = arg

    def run(self):
        code = self.code
        handlers = self.handlers
        while True:
            instr = code[self.pc]
            self.pc += 1
            if instr.op == "halt":
                return self.pop()
            handlers[instr.op](instr.arg)
            self.steps += 1


PROGRAMS = [
    (("+", ("*", "acc", 31), ("%", "i", 7)), "acc"),
    (("+", ("*", ("+", "acc", "i"), 17), ("*", "i", "i")), "acc"),
    (("-", ("*", "acc", 3), ("%", ("*", "i", 13), 11)), "acc"),
]


def main():
    count = max(1, int(18000 * demo_knobs.scale()))
    results = []
    steps = 0
    for round_ in range(6):
        for expr, var in PROGRAMS:
            vm = VM(loop_program(expr, var, count + round_))
            results.append(vm.run())
            steps += vm.steps
    print(f"stack_vm: {steps} steps, checksum {sum(results) & MASK}")


if __name__ == "__main__":
    main()
