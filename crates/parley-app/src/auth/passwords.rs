//! Password hashing with Argon2id (OWASP's first choice), PHC strings, configurable cost,
//! and the bounded pool every hash and verification runs on.
//!
//! Argon2id is memory-hard on purpose (19 MiB a hash by default), so hashing on an
//! unbounded pool lets a flood of sign-ins take the process's memory: 512 wrong sign-ins,
//! 256 at a time, once took a node from 3.4 GB to 12.4 GB, kept afterwards. The
//! [`PasswordPool`] runs them on a fixed set of threads (one per core by default), each of
//! which keeps one reusable Argon2 memory block, behind a short queue; when the queue is
//! full the caller is told to come back (`AppError::Busy`, answered 503 with
//! `Retry-After`). Memory for hashing is therefore at most `threads × cost`, whatever the
//! load, and it is the same blocks each time, so nothing grows after a flood.

use std::sync::mpsc::{Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Duration;

use argon2::password_hash::{Output, ParamsString, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use subtle::ConstantTimeEq;

use crate::AppError;

/// Argon2id cost parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Argon2Cost {
    /// Memory in KiB.
    pub memory_kib: u32,
    /// Iterations.
    pub iterations: u32,
    /// Lanes.
    pub parallelism: u32,
}

impl Default for Argon2Cost {
    /// OWASP's minimum recommendation: 19 MiB, 2 iterations, 1 lane.
    fn default() -> Self {
        Self {
            memory_kib: 19 * 1024,
            iterations: 2,
            parallelism: 1,
        }
    }
}

/// The most memory a stored hash may ask for (1 GiB); a larger one is refused rather
/// than allocated.
const MAX_MEMORY_KIB: u32 = 1024 * 1024;

fn params(cost: Argon2Cost) -> Result<Params, AppError> {
    Params::new(cost.memory_kib, cost.iterations, cost.parallelism, None)
        .map_err(|_| AppError::Internal("invalid Argon2 parameters".into()))
}

/// Checks the length policy: 10 to 1024 characters.
pub fn check_password_policy(password: &str) -> Result<(), AppError> {
    let chars = password.chars().count();
    if chars < 10 {
        return Err(AppError::invalid(
            "password",
            "must be at least 10 characters",
        ));
    }
    if chars > 1024 {
        return Err(AppError::invalid(
            "password",
            "must be at most 1024 characters",
        ));
    }
    Ok(())
}

/// Hashes a password, checking the length policy first (10 to 1024 characters).
pub fn hash_password(password: &str, cost: Argon2Cost) -> Result<String, AppError> {
    hash_with(&mut Vec::new(), password, cost)
}

/// [`hash_password`] with `memory` as Argon2's working blocks (grown when too small).
fn hash_with(
    memory: &mut Vec<Block>,
    password: &str,
    cost: Argon2Cost,
) -> Result<String, AppError> {
    check_password_policy(password)?;
    let params = params(cost)?;
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| AppError::Internal(Box::new(e)))?;
    let salt_string = SaltString::encode_b64(&salt)
        .map_err(|_| AppError::Internal("salt encoding failed".into()))?;
    let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    let blocks = working_blocks(memory, &params);
    argon
        .hash_password_into_with_memory(password.as_bytes(), &salt, &mut out, blocks)
        .map_err(|_| AppError::Internal("password hashing failed".into()))?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params)
            .map_err(|_| AppError::Internal("Argon2 parameters cannot be written".into()))?,
        salt: Some(salt_string.as_salt()),
        hash: Some(Output::new(&out).map_err(|_| AppError::Internal("Argon2 output".into()))?),
    };
    Ok(phc.to_string())
}

/// The first `params.block_count()` blocks of `memory`, grown to that size when smaller.
fn working_blocks<'m>(memory: &'m mut Vec<Block>, params: &Params) -> &'m mut [Block] {
    let needed = params.block_count();
    if memory.len() < needed {
        memory.resize(needed, Block::default());
    }
    &mut memory[..needed]
}

/// True when `password` matches the PHC string `hash` (whatever cost it was made with).
#[must_use]
pub fn verify_password(password: &str, hash: &str) -> bool {
    verify_with(&mut Vec::new(), password, hash)
}

/// [`verify_password`] with `memory` as Argon2's working blocks.
fn verify_with(memory: &mut Vec<Block>, password: &str, hash: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(hash) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
        return false;
    };
    let Ok(algorithm) = Algorithm::try_from(parsed.algorithm) else {
        return false;
    };
    let version = match parsed.version.map(Version::try_from) {
        None => Version::V0x13,
        Some(Ok(v)) => v,
        Some(Err(_)) => return false,
    };
    let Ok(params) = Params::try_from(&parsed) else {
        return false;
    };
    if params.m_cost() > MAX_MEMORY_KIB {
        return false;
    }
    let mut salt_bytes = [0u8; 64];
    let Ok(salt_bytes) = salt.decode_b64(&mut salt_bytes) else {
        return false;
    };
    let mut out = vec![0u8; expected.len()];
    let argon = Argon2::new(algorithm, version, params.clone());
    let blocks = working_blocks(memory, &params);
    if argon
        .hash_password_into_with_memory(password.as_bytes(), salt_bytes, &mut out, blocks)
        .is_err()
    {
        return false;
    }
    bool::from(out.as_slice().ct_eq(expected.as_bytes()))
}

/// Work for the pool.
enum Job {
    Hash {
        password: String,
        cost: Argon2Cost,
        reply: tokio::sync::oneshot::Sender<Result<String, AppError>>,
    },
    Verify {
        password: String,
        hash: String,
        reply: tokio::sync::oneshot::Sender<bool>,
    },
}

/// How many threads hash and how many requests may wait for one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolSize {
    /// Threads hashing at once (each holds one Argon2 memory block).
    pub threads: usize,
    /// Requests that may wait; one more is answered `Busy`.
    pub queue: usize,
}

impl Default for PoolSize {
    /// One thread per core, and a queue of four per thread (about a second's wait at the
    /// default cost on a two-core machine).
    fn default() -> Self {
        let threads = std::thread::available_parallelism().map_or(2, usize::from);
        Self {
            threads,
            queue: threads * 4,
        }
    }
}

/// The bounded pool. Its threads start with the first job and end when the pool is
/// dropped (the queue's sender closes).
pub struct PasswordPool {
    size: PoolSize,
    sender: OnceLock<SyncSender<Job>>,
}

impl std::fmt::Debug for PasswordPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordPool")
            .field("size", &self.size)
            .finish_non_exhaustive()
    }
}

/// How long a caller refused by a full queue is asked to wait.
const BUSY_RETRY: Duration = Duration::from_secs(1);

impl PasswordPool {
    /// A pool of this size (threads start on first use).
    #[must_use]
    pub fn new(size: PoolSize) -> Self {
        Self {
            size: PoolSize {
                threads: size.threads.max(1),
                queue: size.queue,
            },
            sender: OnceLock::new(),
        }
    }

    fn sender(&self) -> &SyncSender<Job> {
        self.sender.get_or_init(|| {
            let (sender, receiver) = std::sync::mpsc::sync_channel(self.size.queue);
            let receiver = Arc::new(Mutex::new(receiver));
            for i in 0..self.size.threads {
                let receiver = receiver.clone();
                let spawned = std::thread::Builder::new()
                    .name(format!("parley-passwords-{i}"))
                    .spawn(move || work(&receiver));
                if let Err(e) = spawned {
                    tracing::error!(error = %e, "a password hashing thread could not start");
                }
            }
            sender
        })
    }

    fn submit(&self, job: Job) -> Result<(), AppError> {
        match self.sender().try_send(job) {
            Ok(()) => Ok(()),
            Err(TrySendError::Full(_)) => Err(AppError::Busy {
                retry_after: BUSY_RETRY,
                why: "too many sign-ins are being checked at once",
            }),
            Err(TrySendError::Disconnected(_)) => {
                Err(AppError::Internal("the password pool has stopped".into()))
            }
        }
    }

    /// Hashes `password` (policy checked first) on the pool.
    pub async fn hash(&self, password: String, cost: Argon2Cost) -> Result<String, AppError> {
        check_password_policy(&password)?;
        let (reply, answer) = tokio::sync::oneshot::channel();
        self.submit(Job::Hash {
            password,
            cost,
            reply,
        })?;
        answer
            .await
            .map_err(|_| AppError::Internal("a password hashing thread stopped".into()))?
    }

    /// Checks `password` against `hash` on the pool.
    pub async fn verify(&self, password: String, hash: String) -> Result<bool, AppError> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        self.submit(Job::Verify {
            password,
            hash,
            reply,
        })?;
        answer
            .await
            .map_err(|_| AppError::Internal("a password hashing thread stopped".into()))
    }
}

/// One pool thread: takes jobs until the pool is dropped, reusing one memory block.
fn work(receiver: &Mutex<Receiver<Job>>) {
    let mut memory: Vec<Block> = Vec::new();
    loop {
        let job = {
            let queue = receiver.lock().unwrap_or_else(PoisonError::into_inner);
            queue.recv()
        };
        match job {
            Err(_) => return,
            Ok(Job::Hash {
                password,
                cost,
                reply,
            }) => {
                let _ = reply.send(hash_with(&mut memory, &password, cost));
            }
            Ok(Job::Verify {
                password,
                hash,
                reply,
            }) => {
                let _ = reply.send(verify_with(&mut memory, &password, &hash));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHEAP: Argon2Cost = Argon2Cost {
        memory_kib: 64,
        iterations: 1,
        parallelism: 1,
    };

    #[test]
    fn hashes_verify_and_policy_is_enforced() {
        let hash = hash_password("correct horse battery", CHEAP).unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=64,t=1,p=1$"), "{hash}");
        assert!(verify_password("correct horse battery", &hash));
        assert!(!verify_password("wrong horse battery", &hash));
        assert!(!verify_password("anything", "not a phc string"));
        let short = hash_password("short", CHEAP).unwrap_err();
        assert!(matches!(short, AppError::Invalid(ref e) if e[0].field == "password"));
    }

    #[test]
    fn hashes_agree_with_the_reference_implementation() {
        use argon2::password_hash::{PasswordHasher, PasswordVerifier};
        // Ours verifies with the library's own verifier, and the library's hash with ours.
        let ours = hash_password("correct horse battery", CHEAP).unwrap();
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(
            Argon2::default()
                .verify_password(b"correct horse battery", &parsed)
                .is_ok()
        );
        let salt = SaltString::encode_b64(b"0123456789abcdef").unwrap();
        let theirs = Argon2::new(Algorithm::Argon2id, Version::V0x13, params(CHEAP).unwrap())
            .hash_password(b"correct horse battery", &salt)
            .unwrap()
            .to_string();
        assert!(verify_password("correct horse battery", &theirs));
        assert!(!verify_password("correct horse batterx", &theirs));
        // One memory block serves hashes of different costs in turn.
        let mut memory = Vec::new();
        let big = Argon2Cost {
            memory_kib: 256,
            ..CHEAP
        };
        let h1 = hash_with(&mut memory, "correct horse battery", big).unwrap();
        assert!(verify_with(&mut memory, "correct horse battery", &ours));
        assert!(verify_with(&mut memory, "correct horse battery", &h1));
    }

    #[tokio::test]
    async fn a_full_queue_is_answered_busy_and_the_pool_recovers() {
        let pool = PasswordPool::new(PoolSize {
            threads: 1,
            queue: 1,
        });
        let hash = pool
            .hash("correct horse battery".into(), CHEAP)
            .await
            .unwrap();
        let slow = Argon2Cost {
            memory_kib: 8 * 1024,
            iterations: 4,
            parallelism: 1,
        };
        // Many at once: one runs, one waits, the rest are told to come back.
        let pool = Arc::new(pool);
        let tries: Vec<_> = (0..16)
            .map(|_| {
                let pool = pool.clone();
                tokio::spawn(async move { pool.hash("correct horse battery".into(), slow).await })
            })
            .collect();
        let mut results = Vec::new();
        for t in tries {
            results.push(t.await.unwrap());
        }
        let busy = results
            .iter()
            .filter(|r| matches!(r, Err(AppError::Busy { .. })))
            .count();
        assert!(busy >= 1, "a full queue refuses");
        assert!(
            results.iter().any(Result::is_ok),
            "the admitted ones finish"
        );
        assert!(
            pool.verify("correct horse battery".into(), hash)
                .await
                .unwrap()
        );
    }
}
