// Must not compile: logits with another column count than the labels' classes.
#include <kiln/dsl.hpp>
using namespace kiln::dsl;
constexpr auto logits = dense<"head", 10>(input<"x", 4>);
constexpr auto loss = softmax_cross_entropy(logits, labels<"y", 7>);
