//! `op_family!`: declares an op family's enum and, from the same list, its attribute-free kind
//! enum with the list of every kind and their names. The ops of a family are written down once;
//! everything else over them is an exhaustive match in the family's file.

/// Declares `pub enum $op` with the given variants (attributes as named fields) and
/// `pub enum $kind` with the same variants, no attributes, plus:
/// - `$kind::ALL`: every kind, in declaration order;
/// - `$kind::name`: the variant's name, used in errors, node names and (where the two agree) as
///   the ONNX op type;
/// - `$op::kind`.
macro_rules! op_family {
    (
        $(#[$op_meta:meta])*
        pub enum $op:ident / $kind:ident {
            $(
                $(#[$variant_meta:meta])*
                $name:ident $({ $($field:ident : $field_ty:ty),* $(,)? })?
            ),* $(,)?
        }
    ) => {
        $(#[$op_meta])*
        #[derive(Debug, Clone)]
        pub enum $op {
            $(
                $(#[$variant_meta])*
                $name $({ $($field: $field_ty),* })?,
            )*
        }

        #[doc = concat!("The ops of [`", stringify!($op), "`] without their attributes.")]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $kind {
            $($name,)*
        }

        impl $kind {
            /// Every op of the family, in declaration order.
            pub const ALL: &'static [$kind] = &[$($kind::$name),*];

            /// The op's name as it appears in errors and node names.
            pub fn name(self) -> &'static str {
                match self {
                    $($kind::$name => stringify!($name),)*
                }
            }
        }

        impl $op {
            pub fn kind(&self) -> $kind {
                match self {
                    $($op::$name { .. } => $kind::$name,)*
                }
            }
        }
    };
}

pub(crate) use op_family;
