main() { printf("never closed); }
