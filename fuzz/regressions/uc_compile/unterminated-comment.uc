/* never closed
main() {}
