// Prints the version of the MediaCore library it is linked against, from C++.
#include <iostream>

#include "mediacore.hpp"

int main() {
    const std::string_view version = mediacore::version();
    if (version.empty()) {
        std::cerr << "mc_version returned nothing\n";
        return 1;
    }
    std::cout << "MediaCore " << version << " (C++)\n";
    return 0;
}
