"""Fuzz fixtures for mlphys.vmc: small wave functions with their Hamiltonians, samplers, walker states, results."""
from mlphys import nn, vmc


def _system(rng):
    """A wave function and the Hamiltonian of the same particles and dimensions."""
    kind = ("gaussian", "gaussian-jastrow", "rbm", "rbm-jastrow", "slater-jastrow")[int(rng.integers(5))]
    P, D = (2, int(rng.integers(1, 4))) if kind.startswith("slater") else (int(rng.integers(1, 4)),
                                                                           int(rng.integers(1, 4)))
    omega, coulomb = float(rng.uniform(0.5, 2.0)), bool(rng.integers(2)) and D > 1
    wf = vmc.build_wavefunction(kind, P, D, omega=omega, n_hidden=2, rng=int(rng.integers(100)), coulomb=coulomb)
    return wf, vmc.Hamiltonian(P, D, omega, coulomb)


def _factor(rng):
    P, D = int(rng.integers(2, 4)), int(rng.integers(2, 4))
    return [lambda: vmc.Gaussian(float(rng.uniform(0.5, 2))),
            lambda: vmc.PadeJastrow(P, D, float(rng.uniform(0.1, 1))),
            lambda: vmc.RBM(P, D, 2, rng=int(rng.integers(100)), weight_scale=0.1),
            lambda: vmc.Slater(2, D),
            lambda: vmc.Product(vmc.Slater(2, D), vmc.Gaussian(1.0), vmc.PadeJastrow(2, D))][int(rng.integers(5))]()


def _sampler(rng):
    if rng.integers(2):
        return vmc.Metropolis(float(rng.uniform(0.3, 1.5)))
    return vmc.Langevin(float(rng.uniform(0.02, 0.3)))


def _walkers(rng, sampler=None):
    wf, H = _system(rng)
    X = rng.normal(size=(int(rng.integers(2, 6)), H.n_particles, H.dim))
    return wf, (sampler or vmc.Langevin(0.1)).init(wf, X)


def _walker_state(rng):
    return _walkers(rng)[1]


def _samples(rng):
    t, w = int(rng.integers(2, 6)), int(rng.integers(2, 5))
    e = rng.normal(1.0, 0.1, (t, w))
    return vmc.Samples(e.mean(axis=1), e, float(rng.uniform(0.2, 1)), _walker_state(rng))


def _result_fields(rng):
    wf, H = _system(rng)
    return dict(history=nn.History("energy"), wavefunction=wf, hamiltonian=H)


def _result(rng):
    wf, H = _system(rng)
    X = rng.normal(size=(int(rng.integers(3, 8)), H.n_particles, H.dim))
    return vmc.VMCResult(energy=float(rng.uniform(1, 3)), error=0.01, variance=0.1, acceptance=0.9,
                         history=nn.History("energy", energy=[1.0]), wavefunction=wf, hamiltonian=H, positions=X)


def _with_system(rng):
    wf, H = _system(rng)
    return {"wf": wf, "H": H}


def _sample(rng):
    return {**_with_system(rng), "sampler": _sampler(rng)}


def _sweep(sampler_class):
    def make(rng):
        wf, state = _walkers(rng, sampler_class(0.1))
        return {"wf": wf, "state": state}
    return make


def _init(rng):
    wf, _ = _system(rng)
    return {"wf": wf}


INSTANCES = {
    vmc.Hamiltonian: lambda rng: vmc.Hamiltonian(int(rng.integers(1, 4)), int(rng.integers(1, 4)),
                                                 float(rng.uniform(0.5, 2)), bool(rng.integers(2))),
    vmc.Factor: _factor,
    vmc.RBM: lambda rng: vmc.RBM(int(rng.integers(1, 3)), int(rng.integers(1, 4)), 2, rng=int(rng.integers(100))),
    vmc.WalkerState: _walker_state,
    vmc.Metropolis: lambda rng: vmc.Metropolis(float(rng.uniform(0.3, 1.5))),
    vmc.Langevin: lambda rng: vmc.Langevin(float(rng.uniform(0.02, 0.3))),
    vmc.Samples: _samples,
    vmc.VMCResult: _result,
}
CALLS = {
    "vmc.local_energy": _with_system,
    "vmc.local_energy_autograd": _with_system,
    "vmc.sample": _sample,
    "vmc.optimise": lambda rng: {**_sample(rng), "optimizer": nn.Adam(0.01)},
    "vmc.Metropolis.init": _init,
    "vmc.Langevin.init": _init,
    "vmc.Metropolis.sweep": _sweep(vmc.Metropolis),
    "vmc.Langevin.sweep": _sweep(vmc.Langevin),
    "vmc.VMCResult": _result_fields,
    # long enough, and decorrelating fast enough (1D Gaussian, large moves), for blocking not to warn
    "vmc.compare_samplers": lambda rng: {"wf": vmc.Product(vmc.Gaussian(1.0)), "H": vmc.Hamiltonian(1, 1),
                                         "samplers": {"Metropolis": vmc.Metropolis(2.0), "Langevin": vmc.Langevin(0.5)},
                                         "n_walkers": 4, "n_steps": 1024},
    "vmc.ground_state": lambda rng: {"omega": float(rng.uniform(0.5, 2)), "settings": dict(
        n_iterations=2, n_walkers=4, opt_steps=2, n_steps=2048, burn_in=20, lr=0.01, dt=0.5)},
}
KEEP_DEFAULT = {"vmc.optimise": ("progress",)}
EXAMPLES = {"vmc.ground_state": 2, "vmc.compare_samplers": 1}
