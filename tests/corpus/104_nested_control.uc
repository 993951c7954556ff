#include <stdio.h>
/* 104_nested_control: switch inside loops inside switch, break and
   continue targets, a tiny lexer state machine over character codes. */
#define START 0
#define IN_NUM 1
#define IN_WORD 2

int main(void)
{
    long text[] = {'a', 'b', ' ', '1', '2', '3', ' ', 'x', '9', ' ', ' ', '4', '2', '\0'};
    int state = START, i, words = 0, numbers = 0;
    long value = 0, total = 0;
    for (i = 0; ; i++) {
        long c = text[i];
        int digit = c >= '0' && c <= '9';
        switch (state) {
        case START:
            if (c == '\0')
                break;
            if (digit) {
                state = IN_NUM;
                value = c - '0';
            } else if (c != ' ')
                state = IN_WORD;
            continue;
        case IN_NUM:
            if (digit) {
                value = value * 10 + (c - '0');
                continue;
            }
            numbers++;
            total += value;
            state = START;
            break;
        case IN_WORD:
            if (c == ' ' || c == '\0') {
                words++;
                state = START;
            }
            break;
        }
        if (c == '\0')
            break;
    }
    printf("words=%d numbers=%d total=%ld\n", words, numbers, total);
    return 0;
}
