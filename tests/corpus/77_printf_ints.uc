#include <stdio.h>
/* 77_printf_ints: every integer conversion of printf with flags, widths,
   precisions and length modifiers. */

int main(void)
{
    long v = 42, n = -42;
    unsigned long u = 3000000000UL;
    printf("[%d] [%i] [%5d] [%-5d] [%05d] [%+d] [% d]\n", 42, 42, 42, 42, 42, 42, 42);
    printf("[%ld] [%li] [%lld] [%lli] [%10ld] [%-10ld|]\n", n, n, n, n, n, n);
    printf("[%.5d] [%8.5d] [%-8.5d] [%+.3d] [%.0d]\n", 42, 42, -42, 7, 0);
    printf("[%u] [%lu] [%12lu] [%-12lu|]\n", 7, u, u, u);
    printf("[%x] [%X] [%#x] [%#X] [%08x] [%#010x]\n", 255, 255, 255, 255, 255, 255);
    printf("[%lx] [%lX] [%#lx] [%16lx]\n", u, u, u, u);
    printf("[%o] [%#o] [%lo] [%5o]\n", 8, 8, u, 64);
    printf("[%hd] [%hu] [%hhd] [%hhu] [%hx]\n", 70000, 70000, 300, 300, 0x12345);
    printf("[%zu] [%zd] [%jd] [%td]\n", (unsigned long) 99, (long) -99, (long) 5, (long) 6);
    printf("[%*d] [%-*d] [%.*d] [%*.*d]\n", 6, 42, 6, 42, 4, 42, 8, 3, 42);
    printf("[%c%c%c] [%3c] [%-3c|]\n", 'a', 'b', 'c', 'x', 'y');
    printf("[%%] [%5s] [%-5s|] [%.2s]\n", "ab", "ab", "abcdef");
    printf("%1000d|\n", 1 == 2);
    return (int) v - 42;
}
