#include <stdio.h>
#include <stdlib.h>
/* 103_defines: object-like macros: numbers, expressions, macros using
   macros, redefinition after #undef, and names inside strings and longer
   identifiers left alone. */
#define SIZE 8
#define DOUBLE_SIZE (SIZE * 2)
#define MASK 0xFFUL
#define GREETING_COUNT 3
#define ONE_THIRD (1.0 / 3)
#define NEG -1

static long table[DOUBLE_SIZE];

int main(void)
{
    int i, SIZE2 = 5;
    for (i = 0; i < DOUBLE_SIZE; i++)
        table[i] = i * SIZE;
    printf("SIZE=%d DOUBLE_SIZE=%d last=%ld\n", SIZE, DOUBLE_SIZE, table[DOUBLE_SIZE - 1]);
    printf("%lu %d %.6f %d\n", 0x1234UL & MASK, GREETING_COUNT, ONE_THIRD, NEG * SIZE);
    printf("%d\n", SIZE2);
#undef SIZE
#define SIZE 3
    printf("%d %d\n", SIZE, DOUBLE_SIZE);
    return 0;
}
