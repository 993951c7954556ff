#include <stdio.h>
/* 67_hanoi: towers of Hanoi, counting moves and printing the first few. */

static long moves;

void hanoi(int n, int from, int to, int via)
{
    if (n == 0)
        return;
    hanoi(n - 1, from, via, to);
    moves++;
    if (moves <= 7)
        printf("move disk %d from %c to %c\n", n, 'A' + from, 'A' + to);
    hanoi(n - 1, via, to, from);
}

int main(void)
{
    int n;
    for (n = 1; n <= 20; n++) {
        moves = 0;
        hanoi(n, 0, 2, 1);
        if (n % 5 == 0 || n == 3)
            printf("n=%2d moves=%7ld (2^n-1=%ld)\n", n, moves, (1L << n) - 1);
    }
    return 0;
}
