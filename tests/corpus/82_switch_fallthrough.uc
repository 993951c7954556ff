#include <stdio.h>
/* 82_switch_fallthrough: Duff-style fall-through counting, grouped case
   labels, negative and character labels, default in the middle, and
   continue inside a switch inside a loop. */

int days_in(int month)
{
    switch (month) {
    case 2:
        return 28;
    case 4: case 6: case 9: case 11:
        return 30;
    default:
        return 31;
    }
}

int main(void)
{
    int i, total = 0, n;
    for (i = 1; i <= 12; i++)
        total += days_in(i);
    printf("days %d\n", total);
    for (n = 0; n <= 5; n++) {
        int count = 0;
        switch (n) {
        case 5: count++;
        case 4: count++;
        case 3: count++;
        default: count += 10;
        case 1: count++;
        case 0: count++;
        }
        printf("n=%d count=%d\n", n, count);
    }
    for (i = -2; i <= 2; i++) {
        switch (i) {
        case -2:
            printf("minus two\n");
            continue;
        case 0:
            printf("zero\n");
            break;
        case 'A' - 64:
            printf("one\n");
            break;
        }
        printf("after %d\n", i);
    }
    switch (3) {
    }
    return 0;
}
