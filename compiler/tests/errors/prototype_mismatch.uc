int add(int a, int b);
double half();
void missing(int x);

int add(int a, double b) { return a; }
half(n) { return n / 2; }

main() { add(1, 2); half(4); }
