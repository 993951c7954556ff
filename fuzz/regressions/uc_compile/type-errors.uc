f(a) double a; { return a; }
main() { int v[3]; v = 1; f(v); g(); }
