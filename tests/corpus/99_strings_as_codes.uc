#include <stdio.h>
/* 99_strings_as_codes: text held as arrays of character codes (UC has no
   string values): length, reverse, palindromes, upper-casing, printed
   with putchar and %c. */

int length(long s[], int cap)
{
    int n = 0;
    while (n < cap && s[n] != '\0')
        n++;
    return n;
}

void print(long s[], int n)
{
    int i;
    for (i = 0; i < n; i++)
        putchar(s[i]);
    putchar('\n');
}

int palindrome(long s[], int n)
{
    int i, j;
    for (i = 0, j = n - 1; i < j; i++, j--)
        if (s[i] != s[j])
            return 0;
    return 1;
}

int main(void)
{
    long word[16] = {'r', 'a', 'c', 'e', 'c', 'a', 'r'};
    long other[16] = {'p', 'o', 'd', 'u', 's'};
    int n = length(word, 16), m = length(other, 16), i;
    printf("%d %d %d %d\n", n, m, palindrome(word, n), palindrome(other, m));
    for (i = 0; i < m; i++)
        other[i] = other[i] - 'a' + 'A';
    print(other, m);
    for (i = 0; i < n; i++)
        printf("%c", word[n - 1 - i]);
    printf("\n");
    puts("done");
    return 0;
}
