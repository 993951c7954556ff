#include <stdio.h>
/* 81_switch_calc: a switch-driven stack calculator over an array of
   opcodes, with fall-through, default and break out of the switch inside
   a loop. */
#define PUSH 1
#define ADD 2
#define SUB 3
#define MUL 4
#define DIV 5
#define DUP 6
#define PRINT 7
#define HALT 0

int main(void)
{
    long prog[] = {PUSH, 6, PUSH, 7, MUL, DUP, PRINT, PUSH, 2, SUB, PRINT,
                   PUSH, 5, DIV, PRINT, 99, HALT};
    long stack[16];
    int sp = 0, pc = 0, running = 1, steps = 0;
    while (running) {
        long op = prog[pc++];
        steps++;
        switch (op) {
        case PUSH:
            stack[sp++] = prog[pc++];
            break;
        case ADD:
            sp--;
            stack[sp - 1] += stack[sp];
            break;
        case SUB:
            sp--;
            stack[sp - 1] -= stack[sp];
            break;
        case MUL:
            sp--;
            stack[sp - 1] *= stack[sp];
            break;
        case DIV:
            sp--;
            stack[sp - 1] /= stack[sp];
            break;
        case DUP:
            stack[sp] = stack[sp - 1];
            sp++;
            break;
        case PRINT:
            printf("top = %ld (depth %d)\n", stack[sp - 1], sp);
            break;
        case HALT:
            running = 0;
            break;
        default:
            printf("bad opcode %ld at %d\n", op, pc - 1);
        }
    }
    printf("%d steps\n", steps);
    return 0;
}
