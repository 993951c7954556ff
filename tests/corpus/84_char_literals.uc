#include <stdio.h>
/* 84_char_literals: character constants and escapes are ints; putchar
   prints characters; a Caesar cipher on an array of codes. */

int main(void)
{
    long msg[] = {'H', 'e', 'l', 'l', 'o', ',', ' ', 'W', 'o', 'r', 'l', 'd'};
    int i, n = 12;
    printf("%d %d %d %d %d\n", 'a', 'A', '0', ' ', '~');
    printf("%d %d %d %d %d %d\n", '\n', '\t', '\0', '\\', '\'', '\"');
    printf("%d %d %d\n", '\x41', '\101', '\177');
    for (i = 0; i < n; i++)
        putchar(msg[i]);
    putchar('\n');
    for (i = 0; i < n; i++) {
        long c = msg[i];
        if (c >= 'a' && c <= 'z')
            c = 'a' + (c - 'a' + 3) % 26;
        else if (c >= 'A' && c <= 'Z')
            c = 'A' + (c - 'A' + 3) % 26;
        putchar(c);
    }
    putchar('\n');
    for (i = '0'; i <= '9'; i++)
        putchar(i);
    putchar(10);
    return 0;
}
