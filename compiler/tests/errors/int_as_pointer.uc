/* Only the constant 0 (NULL) becomes a pointer without a cast, and a
 * pointer to double is not a pointer to int (both errors in gcc 14). */
#include <stddef.h>

int main(void)
{
    int x = 1;
    double d = 2.0;
    int *p = NULL;
    int *q = 5;
    p = &x;
    p = &d;
    p = x;
    return *p + *q;
}
