/* Bitwise operators and shifts take integer operands. */
int main(void)
{
    double d = 1.5;
    int i = 3;
    i = d & 1;
    i = i << d;
    i = ~d;
    i ^= d;
    return i;
}
