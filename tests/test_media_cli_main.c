/* tests/test_media_cli_main.c - `tipline strip` as its own executable, so the test can
 * run it from a shell before cli/main.c lists it. argv[1] is "strip". */
int cmd_strip(int argc, char **argv);

int main(int argc, char **argv)
{
    return argc < 2 ? 2 : cmd_strip(argc - 1, argv + 1);
}
