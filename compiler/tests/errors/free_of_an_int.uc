/* free takes what malloc returned: an int is not a pointer. */
#include <stdlib.h>

int main(void)
{
    int n = 10;
    malloc(n * 8);
    free(n);
    return 0;
}
