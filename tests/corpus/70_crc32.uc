#include <stdio.h>
/* 70_crc32: the table-driven CRC-32 (IEEE) of a generated message, with
   the table built at run time; unsigned shifts, xor and masks. */

static unsigned long table[256];

void make_table(void)
{
    unsigned long c;
    int n, k;
    for (n = 0; n < 256; n++) {
        c = (unsigned long) n;
        for (k = 0; k < 8; k++)
            c = (c & 1) ? 0xEDB88320UL ^ (c >> 1) : c >> 1;
        table[n] = c;
    }
}

unsigned long crc_bytes(long data[], int n)
{
    unsigned long c = 0xFFFFFFFFUL;
    int i;
    for (i = 0; i < n; i++)
        c = table[(c ^ (unsigned long) data[i]) & 0xFF] ^ (c >> 8);
    return c ^ 0xFFFFFFFFUL;
}

int main(void)
{
    long msg[9] = {'1', '2', '3', '4', '5', '6', '7', '8', '9'};
    long big[1000];
    int i;
    make_table();
    printf("table[1]=%08lx table[255]=%08lx\n", table[1], table[255]);
    printf("crc(\"123456789\") = %08lx\n", crc_bytes(msg, 9));
    for (i = 0; i < 1000; i++)
        big[i] = (i * 7 + 3) % 256;
    printf("crc(big) = %08lX\n", crc_bytes(big, 1000));
    return 0;
}
