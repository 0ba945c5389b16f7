// Python bindings for soundedit's optional CUDA ops (forward kernels; gradients are composed in
// Python from the same kernels, see the autograd Functions in bias_act.py and upfirdn2d.py).
#include <torch/extension.h>

torch::Tensor bias_act_cuda(torch::Tensor x, torch::Tensor b, int64_t dim, int64_t act,
                            double alpha, double gain, double clamp);
torch::Tensor upfirdn2d_cuda(torch::Tensor x, torch::Tensor kernel, int64_t up, int64_t down,
                             int64_t px0, int64_t px1, int64_t py0, int64_t py1);

static torch::Tensor bias_act(torch::Tensor x, torch::Tensor b, int64_t dim, int64_t act,
                              double alpha, double gain, double clamp) {
  TORCH_CHECK(x.is_cuda(), "x must be a CUDA tensor");
  TORCH_CHECK(b.numel() == 0 || (b.is_cuda() && b.dim() == 1 && b.size(0) == x.size(dim)),
              "b must be a CUDA vector of x.size(dim)");
  return bias_act_cuda(x.contiguous(), b.contiguous(), dim, act, alpha, gain, clamp);
}

static torch::Tensor upfirdn2d(torch::Tensor x, torch::Tensor kernel, int64_t up, int64_t down,
                               int64_t px0, int64_t px1, int64_t py0, int64_t py1) {
  TORCH_CHECK(x.is_cuda() && x.dim() == 4, "x must be a 4-D CUDA tensor");
  TORCH_CHECK(kernel.is_cuda() && kernel.dim() == 2, "kernel must be a 2-D CUDA tensor");
  TORCH_CHECK(up >= 1 && down >= 1, "up and down must be >= 1");
  return upfirdn2d_cuda(x.contiguous(), kernel.to(torch::kFloat).contiguous(), up, down, px0,
                        px1, py0, py1);
}

PYBIND11_MODULE(TORCH_EXTENSION_NAME, m) {
  m.def("bias_act", &bias_act, "act(x + b) * gain, clamped");
  m.def("upfirdn2d", &upfirdn2d, "zero-stuff, pad, FIR filter, decimate");
}
