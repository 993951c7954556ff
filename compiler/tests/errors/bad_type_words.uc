/* Type words that do not make a C type. */
unsigned double u;
signed unsigned int v;
short long w;

int main(void)
{
    void x;
    return 0;
}
