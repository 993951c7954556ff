void sort(double a[], int n) { }
void other() { }

iproc sort(int a[], int n) {
    other();
    sort(a, n);
    new.other();
    new.sort(a, n);
}

iproc missing(int x) { }

main() { other(); }
