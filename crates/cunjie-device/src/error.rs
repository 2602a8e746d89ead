//! One error for everything the phone can be asked to do: a stable code for the UI and the API
//! shell, and a Chinese message that says what to do next. Nothing already saved is lost on
//! any of them.

use cunjie_media::MediaError;
use cunjie_protocol::v1::codes;
use cunjie_store::StoreError;
use cunjie_sync::SyncError;

/// Why an operation did not happen.
#[derive(Debug, thiserror::Error)]
pub enum DeviceError {
    /// The camera's bytes could not be made into evidence (not a JPEG, truncated, too big …).
    #[error(transparent)]
    Media(#[from] MediaError),
    /// The phone's store failed or refused.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Enrollment or sync failed.
    #[error(transparent)]
    Sync(SyncError),
    /// The phone is not enrolled yet.
    #[error("this phone is not enrolled; scan the township's enrollment code first")]
    NotEnrolled,
    /// Something named is not on this phone.
    #[error("{0} not found on this phone; sync and try again")]
    NotFound(&'static str),
    /// No checklist of this kind has reached the phone yet.
    #[error("no checklist {0} on this phone yet; sync, or ask the township office to publish one")]
    NoTemplate(&'static str),
    /// The settings file could not be written.
    #[error("the settings could not be saved: {0}; free some space and try again")]
    Settings(#[source] std::io::Error),
    /// A value the UI sent is not acceptable (the message says which, in Chinese and English).
    #[error("{0}")]
    BadInput(String),
}

impl DeviceError {
    /// A stable code for the UI.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Media(e) => e.code(),
            Self::Store(StoreError::PhotoFile(_)) => "photo_file",
            Self::Store(StoreError::Unsynced { .. }) => "unsynced_data",
            Self::Store(StoreError::NotFound { .. }) => "not_found",
            Self::Store(StoreError::NotSubmittable(_)) => "not_submittable",
            Self::Store(StoreError::AlreadySubmitted(_)) => "already_submitted",
            Self::Store(StoreError::Rectification(_)) => "rectification_state",
            Self::Store(_) => "store",
            Self::Sync(SyncError::NeedsReenroll) => "needs_reenroll",
            Self::Sync(SyncError::NotEnrolled) | Self::NotEnrolled => "not_enrolled",
            Self::Sync(SyncError::Transport(e)) => match e.code() {
                Some(codes::ENROLLMENT_INVALID) => "enrollment_invalid",
                Some(codes::UNAUTHORISED) => "needs_reenroll",
                Some(_) => "refused",
                None => "network",
            },
            Self::Sync(_) => "sync",
            Self::NotFound(_) => "not_found",
            Self::NoTemplate(_) => "no_template",
            Self::BadInput(_) => "bad_input",
            Self::Settings(_) => "settings_file",
        }
    }

    /// What happened, in Chinese, and what to do next.
    pub fn message_zh(&self) -> String {
        match self {
            Self::Media(e) => e.message_zh().to_owned(),
            Self::Store(StoreError::PhotoFile(_)) => {
                "照片没能存到手机上（可能存储空间不足），请清理空间后重新拍照".to_owned()
            }
            Self::Store(StoreError::Unsynced { records, photos }) => {
                format!("还有 {records} 条记录和 {photos} 张照片没有上传，请先同步再退出登录")
            }
            Self::Store(StoreError::NotFound { .. }) | Self::NotFound(_) => {
                "手机上找不到这项内容，请同步后再试".to_owned()
            }
            Self::Store(StoreError::AlreadySubmitted(_)) => {
                "这条记录已经提交，不能再改；如有错误请提交更正".to_owned()
            }
            Self::Store(StoreError::Rectification(e)) => format!("整改单状态不允许这样操作：{e}"),
            Self::Store(StoreError::NotSubmittable(issues)) => {
                let words: Vec<String> = issues.iter().map(|i| i.message_zh()).collect();
                format!("还不能提交：{}", words.join("；"))
            }
            Self::Store(_) => "手机存储出错，请重启应用后再试；已保存的记录不会丢失".to_owned(),
            Self::Sync(e) => e.message_zh(),
            Self::NoTemplate(_) => {
                "手机上还没有这类对象的检查表，请同步后再试，或请镇整治办发布检查表".to_owned()
            }
            Self::NotEnrolled => "这部手机还没有登记，请先扫描镇整治办给的登记码".to_owned(),
            Self::Settings(_) => "设置没能保存（可能存储空间不足），请清理空间后再试".to_owned(),
            Self::BadInput(m) => m.clone(),
        }
    }
}
