// How an op prints: its precedence and infix symbol decide where the printer puts parentheses.
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace kiln::dsl {

enum class Precedence { additive = 1, multiplicative = 2, prefix = 3, postfix = 4, atom = 10 };

struct Notation {
    Precedence precedence = Precedence::atom;
    std::string_view symbol = {};  // infix symbol; empty for function-call and atom notation
};

using Texts = std::vector<std::string>;

inline std::string infix(const Texts& parts, std::string_view symbol) {
    return parts[0] + " " + std::string(symbol) + " " + parts[1];
}
inline std::string call(std::string_view function, const Texts& parts) {
    std::string text = std::string(function) + "(";
    for (std::size_t i = 0; i < parts.size(); ++i) text += (i ? ", " : "") + parts[i];
    return text + ")";
}
inline std::string number_text(double v) {
    std::string text = std::to_string(v);
    text.erase(text.find_last_not_of('0') + 1);
    if (text.back() == '.') text.pop_back();
    return text;
}

}  // namespace kiln::dsl
