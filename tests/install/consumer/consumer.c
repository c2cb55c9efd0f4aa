/* consumer.c - an application of the installed libbitstuff: stuffs the
 * lab's example and prints the result (tests/install/install.sh). */
#include <bitstuff/bitstuff.h>
#include <stdio.h>
#include <string.h>

int main(void)
{
    const char *in = "0101111110011111001010";
    char out[64];
    size_t n;
    bs_status rc =
        bs_stuff_text(BS_RULE_HDLC, in, strlen(in), out, sizeof(out), &n, NULL);

    if (rc != BS_OK) {
        fprintf(stderr, "consumer: %s\n", bs_strerror(rc));
        return 1;
    }
    printf("%.*s\nlibbitstuff %s\n", (int) n, out, bs_version());
    return 0;
}
