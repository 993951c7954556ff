#define S(x) #x
#define C(a, b) a ## b
#if defined(S) && C(1, 2) == 12
int r = C(3, 4);
#else
#error no
#endif
main() { printf(S(a "b" c)); }
