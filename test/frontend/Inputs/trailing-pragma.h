// A header whose last line is a pragma: it must not reach into the file that
// includes this one (see warnings-placement.c).
int from_trailing_header;
#pragma ckpt exclude
