// What each argument of a generated stage is to the runtime (buffer_roles.def). The generator
// writes each stage's argument list as (role, index) pairs into the model descriptor; the runtime
// binds buffers by role. One enum for both sides.
#pragma once
#include <string_view>

namespace kiln {

enum class BufferDirection { scalar, input, output, between_stages };

enum class BufferRole {
#define KILN_BUFFER_ROLE(name, direction, meaning) name,
#include "kiln/contract/buffer_roles.def"
#undef KILN_BUFFER_ROLE
};

struct BufferRoleRow {
    BufferRole role;
    BufferDirection direction;  // a scalar argument, a buffer the stage reads, one it writes, or either
    std::string_view name, meaning;
};

inline constexpr BufferRoleRow buffer_role_table[] = {
#define KILN_BUFFER_ROLE(name, direction, meaning) {BufferRole::name, BufferDirection::direction, #name, meaning},
#include "kiln/contract/buffer_roles.def"
#undef KILN_BUFFER_ROLE
};

constexpr std::string_view buffer_role_name(BufferRole role) { return buffer_role_table[int(role)].name; }

}  // namespace kiln
