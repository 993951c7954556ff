#include <stdio.h>
#include <stdlib.h>
/* 88_abs_rand: abs and labs; rand with the default seed and after srand,
   which must give glibc's sequence; a dice histogram. */

int main(void)
{
    int i, hist[6];
    printf("%d %d %ld %ld\n", abs(-5), abs(5), labs(-1234567890123L), labs(0));
    for (i = 0; i < 5; i++)
        printf("%d\n", rand());
    srand(42);
    for (i = 0; i < 3; i++)
        printf("%d\n", rand());
    srand(1);
    printf("%d\n", rand());
    for (i = 0; i < 6; i++)
        hist[i] = 0;
    srand(2024);
    for (i = 0; i < 6000; i++)
        hist[rand() % 6]++;
    for (i = 0; i < 6; i++)
        printf("face %d: %d\n", i + 1, hist[i]);
    return 0;
}
