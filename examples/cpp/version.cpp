// Prints the version of the MediaCore library it is linked against, from C++.
#include <cstdio>
#include <string_view>

#include "mediacore.h"

int main() {
    std::string_view version{mc_version()};
    if (version.empty()) {
        std::fprintf(stderr, "mc_version returned nothing\n");
        return 1;
    }
    std::printf("MediaCore %.*s (C++)\n", static_cast<int>(version.size()), version.data());
    return 0;
}
