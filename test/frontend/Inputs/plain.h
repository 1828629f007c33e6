// A header with a variable, included right after a pragma (see
// warnings-placement.c): the pragma does not reach into it.
int from_plain_header;
