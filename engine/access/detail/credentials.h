// Random secrets and their hashes for the access layer (libsodium).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace flowpilot::engine::access_detail {

// `bytes` random bytes as lower-case hex (2 * bytes characters), from the OS's CSPRNG.
std::string random_hex(std::size_t bytes);
// The SHA-256 of `text` as lower-case hex. Tokens and session ids carry 192 bits or more of
// randomness, so a fast hash is enough: no one can guess a preimage.
std::string sha256_hex(std::string_view text);
// Constant-time equality (sodium_memcmp after a length check; lengths are not secret).
bool same_secret(std::string_view a, std::string_view b);

}  // namespace flowpilot::engine::access_detail
