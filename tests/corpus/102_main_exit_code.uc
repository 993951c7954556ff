#include <stdio.h>
/* 102_main_exit_code: main's return value is the exit code (issue 12:
   `int main() { return 3; }` exited 0), computed at run time. */

int check(long v[], int n)
{
    int i, bad = 0;
    for (i = 1; i < n; i++)
        if (v[i - 1] > v[i])
            bad++;
    return bad;
}

int main(void)
{
    long v[6] = {1, 3, 2, 5, 4, 6};
    int bad = check(v, 6);
    printf("%d inversions of neighbours\n", bad);
    return bad + 1;
}
