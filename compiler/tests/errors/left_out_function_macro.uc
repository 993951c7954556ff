/* Only object-like macros are expanded; a function-like one and
 * conditional compilation are errors that say so. */
#define N 10
#define SQUARE(x) ((x) * (x))
#ifdef DEBUG
#endif

int main(void)
{
    return N;
}
