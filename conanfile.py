"""Conan 2 recipe for gift, a header-only C++20 library (GIFT-SW salient-column fine-tuning).

Consumers get the CMake targets find_package(gift) gives:

* ``gift::gift``   the core (Eigen 3.4, C++20, OpenMP, ``-ffp-contract=off``);
* ``gift::thrust`` with ``-o gift/*:with_thrust=True``: Thrust on the host OMP/CPP systems;
* ``gift::cuda``   with ``-o gift/*:with_cuda=True``: nvcc, Thrust on CUDA, cuBLAS, cuRAND.

The version is read from include/gift/version.hpp, the one place it is defined.
"""
import os
import re

from conan import ConanFile
from conan.errors import ConanException
from conan.tools.build import check_min_cppstd
from conan.tools.files import copy, load
from conan.tools.layout import basic_layout

required_conan_version = ">=2.0"


class GiftConan(ConanFile):
    name = "gift"
    description = ("GIFT-SW: salient-column fine-tuning with quantization-noise injection, "
                   "and its quantization toolbox (header-only C++20; Eigen, Thrust, CUDA)")
    topics = ("quantization", "fine-tuning", "llm", "eigen", "cuda", "header-only")
    package_type = "header-library"
    settings = "os", "arch", "compiler", "build_type"
    options = {
        "with_thrust": [True, False],
        "with_cuda": [True, False],
    }
    default_options = {
        "with_thrust": False,
        "with_cuda": False,
    }
    # The package is the headers plus one CMake module that finishes the targets (see
    # package_info); nothing is built, so the sources are never copied to a build folder.
    exports_sources = "include/*", "conan/cmake/*", "LICENSE*"
    no_copy_source = True

    _build_module = os.path.join("lib", "cmake", "gift", "gift-conan-targets.cmake")

    def set_version(self):
        header = load(self, os.path.join(self.recipe_folder, "include", "gift", "version.hpp"))
        parts = []
        for part in ("MAJOR", "MINOR", "PATCH"):
            found = re.search(rf"^#define GIFT_VERSION_{part} (\d+)$", header, re.MULTILINE)
            if not found:
                raise ConanException(f"gift: could not read GIFT_VERSION_{part} from include/gift/version.hpp")
            parts.append(found.group(1))
        from_header = ".".join(parts)
        # One version: a --version that disagrees with the header would publish a package whose
        # gift::version_string says something else.
        if self.version and str(self.version) != from_header:
            raise ConanException(f"gift: --version {self.version} disagrees with include/gift/version.hpp "
                                 f"({from_header}); change the header, not the command line")
        self.version = from_header

    def layout(self):
        basic_layout(self)

    def requirements(self):
        self.requires("eigen/3.4.0")

    def package_id(self):
        # Header-only: one package serves every compiler, build type and option; the options
        # only choose which targets package_info() declares for the consumer.
        self.info.clear()

    def validate(self):
        if self.settings.compiler.get_safe("cppstd"):
            check_min_cppstd(self, 20)

    def package(self):
        copy(self, "LICENSE*", self.source_folder, os.path.join(self.package_folder, "licenses"))
        copy(self, "*.hpp", os.path.join(self.source_folder, "include"), os.path.join(self.package_folder, "include"))
        copy(self, "*.cuh", os.path.join(self.source_folder, "include"), os.path.join(self.package_folder, "include"))
        copy(self, "gift-conan-targets.cmake", os.path.join(self.source_folder, "conan", "cmake"),
             os.path.dirname(os.path.join(self.package_folder, self._build_module)))

    def _openmp_flags(self):
        compiler = str(self.settings.get_safe("compiler") or "")
        if compiler == "msvc":
            return ["/openmp"], []
        if compiler in ("gcc", "clang", "apple-clang", "intel-cc"):
            return ["-fopenmp"], ["-fopenmp"]
        return [], []

    def package_info(self):
        # The root target aggregates every component; with Thrust and CUDA both enabled it would
        # mix two Thrust device systems, so it is not named gift::gift: link the components.
        self.cpp_info.set_property("cmake_file_name", "gift")
        self.cpp_info.set_property("cmake_target_name", "gift::all")
        self.cpp_info.set_property("pkg_config_name", "gift-all")
        # What CMakeDeps cannot express from cpp_info: cxx_std_20, CUDA-language flags, the CCCL
        # include directory and the CUDA toolkit's libraries (found on the consumer's machine).
        self.cpp_info.set_property("cmake_build_modules", [self._build_module])
        self.cpp_info.builddirs.append(os.path.dirname(self._build_module))

        openmp_compile, openmp_link = self._openmp_flags()

        core = self.cpp_info.components["core"]
        core.set_property("cmake_target_name", "gift::gift")
        core.set_property("pkg_config_name", "gift")
        core.includedirs = ["include"]
        core.bindirs = []
        core.libdirs = []
        # A profile may provide Eigen from the system ([platform_requires], as gift's CI does):
        # then it is no Conan dependency to name here, and the build module finds it instead.
        if "eigen" in self.dependencies:
            core.requires = ["eigen::eigen"]
        # Reproducibility: every backend rounds each operation once, in the same order.
        core.cxxflags = ["-ffp-contract=off"] + openmp_compile
        core.exelinkflags = list(openmp_link)
        core.sharedlinkflags = list(openmp_link)

        if self.options.with_thrust:
            thrust = self.cpp_info.components["thrust"]
            thrust.set_property("cmake_target_name", "gift::thrust")
            thrust.set_property("pkg_config_name", "gift-thrust")
            thrust.includedirs = []
            thrust.bindirs = []
            thrust.libdirs = []
            thrust.requires = ["core"]
            # Must be defined before any Thrust header; never two device systems in one binary.
            thrust.defines = ["THRUST_DEVICE_SYSTEM=THRUST_DEVICE_SYSTEM_OMP", "GIFT_HAS_THRUST=1"]

        if self.options.with_cuda:
            cuda = self.cpp_info.components["cuda"]
            cuda.set_property("cmake_target_name", "gift::cuda")
            cuda.set_property("pkg_config_name", "gift-cuda")
            cuda.includedirs = []
            cuda.bindirs = []
            cuda.libdirs = []
            cuda.requires = ["core"]
            cuda.defines = ["GIFT_HAS_CUDA=1"]
