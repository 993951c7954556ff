/* 63_bank: a small account simulation: statics count transactions, globals
   hold balances in cents (int) and rates (double), a formatted report. */
int balance[4] = {10000, 2500, 0, 99999};
double rate[4] = {0.01, 0.025, 0.05, 0.0};

int transfer(int from, int to, int cents)
{
    static int count;
    if (cents <= 0 || balance[from] < cents) {
        printf("transfer %d -> %d of %d refused\n", from, to, cents);
        return 0;
    }
    balance[from] -= cents;
    balance[to] += cents;
    count++;
    return count;
}

void apply_interest()
{
    int i;
    for (i = 0; i < len(balance); i++)
        balance[i] += (int) (balance[i] * rate[i] + 0.5);
}

void report()
{
    int i, total = 0;
    printf("%-8s %10s %6s\n", "account", "balance", "rate");
    for (i = 0; i < len(balance); i++) {
        printf("%-8d %10.2f %5.1f%%\n", i, balance[i] / 100.0, rate[i] * 100);
        total += balance[i];
    }
    printf("%-8s %10.2f\n", "total", total / 100.0);
}

main()
{
    int n;
    n = transfer(2, 0, 0);
    n = transfer(0, 2, 1234);
    n = transfer(1, 2, 5000);
    n = transfer(3, 1, 99999);
    printf("%d transfers done\n", n);
    apply_interest();
    apply_interest();
    report();
}
