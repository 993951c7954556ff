/* UC has no dynamic memory: each use of malloc or free is named. */
#include <stdlib.h>

int main(void)
{
    int n = 10;
    malloc(n * 8);
    free(n);
    return 0;
}
