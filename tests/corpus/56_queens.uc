/* 56_queens: the eight queens by backtracking over global arrays; counts
   the solutions for n = 1..8 and prints the first solution for 8. */
int col[8];
int used_col[8];
int used_d1[15];
int used_d2[15];
int solutions;
int printed;

void place(int row, int n)
{
    int c, r;
    if (row == n) {
        solutions++;
        if (n == 8 && !printed) {
            printed = 1;
            for (r = 0; r < n; r++) {
                for (c = 0; c < n; c++) {
                    if (col[r] == c)
                        printf("Q ");
                    else
                        printf(". ");
                }
                printf("\n");
            }
        }
        return;
    }
    for (c = 0; c < n; c++) {
        if (used_col[c] || used_d1[row + c] || used_d2[row - c + n - 1])
            continue;
        col[row] = c;
        used_col[c] = 1;
        used_d1[row + c] = 1;
        used_d2[row - c + n - 1] = 1;
        place(row + 1, n);
        used_col[c] = 0;
        used_d1[row + c] = 0;
        used_d2[row - c + n - 1] = 0;
    }
}

main()
{
    int n;
    for (n = 1; n <= 8; n++) {
        solutions = 0;
        place(0, n);
        printf("n = %d: %d solutions\n", n, solutions);
    }
}
