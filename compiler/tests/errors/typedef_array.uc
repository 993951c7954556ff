/* UC has no array typedefs yet. */
typedef int Row[4];
int main(void) { return 0; }
