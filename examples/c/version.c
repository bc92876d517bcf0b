/* Prints the version of the MediaCore library it is linked against. */
#include <stdio.h>
#include <string.h>

#include "mediacore.h"

int main(void) {
    const char *version = mc_version();
    if (version == NULL || strlen(version) == 0) {
        fprintf(stderr, "mc_version returned nothing\n");
        return 1;
    }
    printf("MediaCore %s\n", version);
    return 0;
}
