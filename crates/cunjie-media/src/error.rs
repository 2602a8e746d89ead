//! Errors of the photo pipeline and of device signatures, each with a stable code and a Chinese
//! message that tells the person holding the phone what to do next.

/// Why a photo or a signature was refused.
///
/// Match on [`MediaError::code`] (stable snake_case) rather than on the variant text; show
/// [`MediaError::message_zh`] to the person. The English `Display` text is for logs.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MediaError {
    /// The input has no bytes at all.
    #[error("the photo file is empty (0 bytes); take the photo again")]
    Empty,
    /// The input is longer than [`crate::Limits::max_input_bytes`].
    #[error(
        "the photo file has {size} bytes, more than the {max} allowed; lower the camera resolution"
    )]
    TooLarge {
        /// Bytes given.
        size: usize,
        /// Bytes allowed.
        max: usize,
    },
    /// The header claims more pixels, or a longer side, than [`crate::Limits`] allow.
    #[error(
        "the photo claims {width}×{height} pixels, more than allowed (at most {max_pixels} pixels, {max_dimension} per side); lower the camera resolution"
    )]
    TooManyPixels {
        /// Width in the header.
        width: u32,
        /// Height in the header.
        height: u32,
        /// Pixels allowed.
        max_pixels: u64,
        /// Longest side allowed.
        max_dimension: u32,
    },
    /// The bytes are no image format we know.
    #[error("the file is not an image; take the photo with the camera")]
    NotAnImage,
    /// An image, but not a JPEG: only the camera's JPEG is accepted.
    #[error("the file is a {format} image; only camera JPEG photos are accepted")]
    UnsupportedFormat {
        /// What it is: "PNG", "HEIF/HEIC", "JPEG (12-bit)", …
        format: String,
    },
    /// The JPEG stops before its end (an interrupted save or copy).
    #[error("the JPEG is truncated: {detail}; take the photo again")]
    Truncated {
        /// Where it stops.
        detail: &'static str,
    },
    /// The JPEG is damaged.
    #[error("the JPEG is corrupt: {detail}; take the photo again")]
    Corrupt {
        /// What is wrong.
        detail: String,
    },
    /// The derivative policy is out of range (a township setting).
    #[error("bad photo policy: {0}")]
    BadPolicy(&'static str),
    /// Encoding the derivative failed.
    #[error("could not encode the derivative: {0}")]
    Encode(String),
    /// The operating system gave no randomness for a new device key.
    #[error("no randomness for a device key: {0}")]
    Random(String),
    /// The public key is not standard base64 of 32 bytes, or not a valid Ed25519 point.
    #[error("the device public key is not a valid Ed25519 key in base64: {0}")]
    KeyInvalid(&'static str),
    /// The signature is not standard base64 of 64 bytes.
    #[error("the photo signature is not base64 of 64 bytes: {0}")]
    SignatureMalformed(&'static str),
    /// No QR code could be read in the photo (none in view, too small, blurred or cut off).
    #[error(
        "no QR code could be read in the photo; hold the phone closer to the code and take it again"
    )]
    NoQrCode,
    /// The signature does not verify: the statement was changed or signed by another key.
    #[error(
        "the photo signature does not verify for this device key; the photo record was changed or signed by another device"
    )]
    SignatureInvalid,
}

impl MediaError {
    /// Stable snake_case code for programs (the UI, the server's error bodies, logs).
    pub fn code(&self) -> &'static str {
        match self {
            Self::Empty => "empty",
            Self::TooLarge { .. } => "too_large",
            Self::TooManyPixels { .. } => "too_many_pixels",
            Self::NotAnImage => "not_an_image",
            Self::UnsupportedFormat { .. } => "unsupported_format",
            Self::Truncated { .. } => "truncated",
            Self::Corrupt { .. } => "corrupt",
            Self::BadPolicy(_) => "bad_policy",
            Self::Encode(_) => "encode_failed",
            Self::Random(_) => "random_unavailable",
            Self::KeyInvalid(_) => "key_invalid",
            Self::NoQrCode => "no_qr_code",
            Self::SignatureMalformed(_) => "signature_malformed",
            Self::SignatureInvalid => "signature_invalid",
        }
    }

    /// What to tell the person, in Chinese, including what to do next.
    pub fn message_zh(&self) -> &'static str {
        match self {
            Self::Empty => "照片文件是空的，请重新拍照",
            Self::TooLarge { .. } => "照片文件太大，请在相机设置里调低分辨率后重新拍照",
            Self::TooManyPixels { .. } => "照片像素太多，请在相机设置里调低分辨率后重新拍照",
            Self::NotAnImage => "这不是照片文件，请用相机重新拍照",
            Self::UnsupportedFormat { .. } => {
                "只能使用相机拍摄的 JPG 照片（不支持截图、PNG、HEIC 等格式），请用相机重新拍照"
            }
            Self::Truncated { .. } => "照片文件不完整，请重新拍照",
            Self::Corrupt { .. } => "照片文件已损坏，请重新拍照",
            Self::BadPolicy(_) => "照片尺寸设置有误，请联系镇里的管理员检查设置",
            Self::Encode(_) => "照片处理失败，请重新拍照；多次失败请联系管理员",
            Self::Random(_) => "手机暂时无法生成设备密钥，请重启手机后再登记",
            Self::KeyInvalid(_) => "设备密钥无效，请重新登记本机",
            Self::NoQrCode => "照片里没有认出二维码，请靠近一些、让二维码占满画面中间再拍一次",
            Self::SignatureMalformed(_) => "照片签名格式不对，请更新应用后重新提交",
            Self::SignatureInvalid => {
                "照片签名校验不通过，照片记录可能被改动过，请在原手机上重新拍照提交"
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all() -> Vec<MediaError> {
        vec![
            MediaError::Empty,
            MediaError::TooLarge { size: 2, max: 1 },
            MediaError::TooManyPixels {
                width: 1,
                height: 1,
                max_pixels: 1,
                max_dimension: 1,
            },
            MediaError::NotAnImage,
            MediaError::UnsupportedFormat {
                format: "PNG".into(),
            },
            MediaError::Truncated { detail: "x" },
            MediaError::Corrupt { detail: "x".into() },
            MediaError::BadPolicy("x"),
            MediaError::Encode("x".into()),
            MediaError::Random("x".into()),
            MediaError::KeyInvalid("x"),
            MediaError::SignatureMalformed("x"),
            MediaError::SignatureInvalid,
            MediaError::NoQrCode,
        ]
    }

    #[test]
    fn codes_are_distinct_snake_case_and_messages_are_chinese() {
        let errors = all();
        let mut codes: Vec<&str> = errors.iter().map(MediaError::code).collect();
        for code in &codes {
            assert!(
                code.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
                "{code} must be snake_case so clients can match it"
            );
        }
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), errors.len(), "every variant has its own code");
        for e in &errors {
            let zh = e.message_zh();
            assert!(
                zh.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
                "{} must have a Chinese message",
                e.code()
            );
            assert!(
                zh.contains('请'),
                "{}: the message must say what to do next: {zh}",
                e.code()
            );
        }
    }
}
