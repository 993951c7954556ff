/* A const variable (local, static, global, array element) cannot be
 * changed, by any assignment operator. */
const long limit = 10;

int main(void)
{
    const int n = 5;
    static const double scale = 2.5;
    const int table[3] = {1, 2, 3};
    n = 6;
    n++;
    scale *= 2;
    table[1] = 9;
    limit <<= 1;
    return n;
}
