// The backward stage's gradient signals (the contract's gradient_signal role): a stage generated
// with them calls kiln_gradient_ready(parameter) from the thread that runs it, right after that
// parameter's gradient is complete, last layer first. A listener installed on that thread hears
// them; a data-parallel job starts reducing a bucket of gradients while the stage computes the
// rest (data_parallel.hpp).
#pragma once
#include <exception>
#include <functional>

namespace kiln {

using GradientListener = std::function<void(int parameter)>;

// Installs `listener` on this thread for the object's lifetime (null: none). What the listener
// throws is kept, the stage fails, and rethrow_listener_error() throws it again afterwards: an
// exception cannot unwind through the generated code.
class ListenToGradients {
public:
    explicit ListenToGradients(const GradientListener* listener);
    ~ListenToGradients();
    ListenToGradients(const ListenToGradients&) = delete;
    ListenToGradients& operator=(const ListenToGradients&) = delete;

private:
    const GradientListener* previous_;
};

// Throws what a listener threw during the last stage on this thread, if anything.
void rethrow_listener_error();

}  // namespace kiln
