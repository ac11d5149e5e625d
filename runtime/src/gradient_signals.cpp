// The runtime's side of the gradient_signal role: the extern stage generated backward stages call
// (codegen's Stage::signal_when_complete), and the per-thread listener it reports to.
#include "kiln/gradient_signals.hpp"

#include <HalideRuntime.h>

#include <cstdint>
#include <utility>

namespace kiln {

namespace {
thread_local const GradientListener* gradient_listener = nullptr;
thread_local std::exception_ptr gradient_listener_error;
}  // namespace

ListenToGradients::ListenToGradients(const GradientListener* listener)
    : previous_(std::exchange(gradient_listener, listener)) {}
ListenToGradients::~ListenToGradients() { gradient_listener = previous_; }

void rethrow_listener_error() {
    if (gradient_listener_error) std::rethrow_exception(std::exchange(gradient_listener_error, nullptr));
}

}  // namespace kiln

// Called by the generated code once per parameter and step, right after its gradient's
// realization; `signal` is the stage's one-int32 output for it. It reads no gradient (the listener
// knows it by its index and reads the arena), so Halide asks nothing of it in bounds queries.
extern "C" int kiln_gradient_ready(int32_t parameter, halide_buffer_t* signal) {
    if (signal->is_bounds_query()) return 0;
    *reinterpret_cast<int32_t*>(signal->host) = 1;
    if (kiln::gradient_listener && *kiln::gradient_listener) try {
            (*kiln::gradient_listener)(parameter);
        } catch (...) {
            kiln::gradient_listener_error = std::current_exception();
            return -1;  // the stage stops with Halide's "extern stage failed"; Model::run rethrows this instead
        }
    return 0;
}
