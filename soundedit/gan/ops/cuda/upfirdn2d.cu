// upfirdn2d, direct form: each output pixel sums the kernel taps that land on real (not
// zero-stuffed) input samples. Same definition as the PyTorch reference in upfirdn2d.py.
#include <c10/cuda/CUDAException.h>
#include <c10/cuda/CUDAStream.h>
#include <torch/extension.h>

template <typename scalar_t>
__global__ void upfirdn2d_kernel(const scalar_t* __restrict__ x, const float* __restrict__ k,
                                 scalar_t* __restrict__ y, int64_t planes, int h, int w,
                                 int kh, int kw, int up, int down, int px0, int py0, int oh,
                                 int ow) {
  int64_t total = planes * oh * ow;
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < total;
       i += (int64_t)blockDim.x * gridDim.x) {
    int ox = (int)(i % ow);
    int oy = (int)((i / ow) % oh);
    int64_t p = i / ((int64_t)ow * oh);
    const scalar_t* plane = x + p * (int64_t)h * w;
    float acc = 0.f;
    for (int a = 0; a < kh; ++a) {
      int sy = oy * down + a - py0;  // position in the zero-stuffed signal
      if (sy < 0 || sy >= h * up || sy % up) continue;
      for (int c = 0; c < kw; ++c) {
        int sx = ox * down + c - px0;
        if (sx < 0 || sx >= w * up || sx % up) continue;
        acc += static_cast<float>(plane[(sy / up) * w + sx / up]) *
               k[(kh - 1 - a) * kw + (kw - 1 - c)];
      }
    }
    y[i] = static_cast<scalar_t>(acc);
  }
}

torch::Tensor upfirdn2d_cuda(torch::Tensor x, torch::Tensor kernel, int64_t up, int64_t down,
                             int64_t px0, int64_t px1, int64_t py0, int64_t py1) {
  int64_t b = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3);
  int64_t kh = kernel.size(0), kw = kernel.size(1);
  int64_t oh = (h * up + py0 + py1 - kh) / down + 1;
  int64_t ow = (w * up + px0 + px1 - kw) / down + 1;
  TORCH_CHECK(oh >= 1 && ow >= 1, "upfirdn2d output would be empty");
  auto y = torch::empty({b, c, oh, ow}, x.options());
  int64_t total = y.numel();
  int threads = 256;
  int blocks = (int)std::min<int64_t>((total + threads - 1) / threads, 65535);
  auto stream = c10::cuda::getCurrentCUDAStream();
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, x.scalar_type(), "upfirdn2d", [&] {
    upfirdn2d_kernel<scalar_t><<<blocks, threads, 0, stream>>>(
        x.data_ptr<scalar_t>(), kernel.data_ptr<float>(), y.data_ptr<scalar_t>(), b * c, (int)h,
        (int)w, (int)kh, (int)kw, (int)up, (int)down, (int)px0, (int)py0, (int)oh, (int)ow);
  });
  C10_CUDA_KERNEL_LAUNCH_CHECK();
  return y;
}
