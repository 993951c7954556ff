/* 60_rpn_machine: a tiny stack machine interpreting a program held in a
   global array (opcodes as ints), with a global operand stack. */
int PUSH = 1, ADD = 2, SUB = 3, MUL = 4, DIV = 5, PRINT = 6, DUP = 7, JNZ = 8, HALT = 9;

int prog[40] = {
    1, 6, 1, 7, 4, 6,           /* push 6, push 7, mul, print        -> 42 */
    1, 100, 1, 7, 5, 6,         /* push 100, push 7, div, print      -> 14 */
    1, 5,                       /* push 5 (loop counter)                   */
    7, 6,                       /* loop: dup, print                        */
    1, 1, 3,                    /* push 1, sub                             */
    7, 8, 14,                   /* dup, jnz loop                           */
    9                           /* halt                                    */
};
int stack[16];
int sp;

void push(int v)
{
    stack[sp] = v;
    sp++;
}

int pop()
{
    sp--;
    return stack[sp];
}

void run()
{
    int pc = 0, op, a, b, steps = 0;
    while (1) {
        op = prog[pc];
        pc++;
        steps++;
        if (op == PUSH) {
            push(prog[pc]);
            pc++;
        } else if (op == ADD || op == SUB || op == MUL || op == DIV) {
            b = pop();
            a = pop();
            if (op == ADD) push(a + b);
            else if (op == SUB) push(a - b);
            else if (op == MUL) push(a * b);
            else push(a / b);
        } else if (op == PRINT) {
            printf("%d\n", pop());
        } else if (op == DUP) {
            a = pop();
            push(a);
            push(a);
        } else if (op == JNZ) {
            if (pop() != 0)
                pc = prog[pc];
            else
                pc++;
        } else if (op == HALT) {
            printf("halt after %d steps, sp = %d\n", steps, sp);
            return;
        } else {
            printf("bad opcode %d\n", op);
            return;
        }
    }
}

main()
{
    run();
}
